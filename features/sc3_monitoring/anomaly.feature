@allure.epic:MVP-2 @allure.story:SC3 @critical @monitoring @requires.prometheus @alerting @anomaly @requires.chat
Feature: An unusual slowdown is flagged as an anomaly
  As the operations lead accepting MVP-2
  I need a model that suddenly answers far slower than its own recent habit to be flagged
  So that a degradation is noticed even when no fixed threshold is crossed yet

  Scenario: A sudden slowdown of a model is flagged as an anomaly
    Given Prometheus evaluates the latency anomaly rule
    And "openchat" has answered short questions at its usual pace for a while
    When "openchat" suddenly takes far longer to answer
    Then the latency anomaly alert is raised for "openchat" within its window
