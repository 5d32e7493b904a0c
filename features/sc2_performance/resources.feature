@allure.epic:MVP-2 @allure.story:SC2 @critical @gateway @load @resources @requires.chat @requires.metrics
Feature: Under normal load the servers keep headroom
  As the operations lead accepting MVP-2
  I need CPU and memory use to stay within the plan's limits under normal load
  So that load peaks and failures have room to be absorbed

  Scenario: CPU and memory stay within their limits under normal load
    When the system serves its normal load for the measurement window
    Then CPU use stays below 80 %
    And memory use stays below 85 %
