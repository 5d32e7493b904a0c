@allure.epic:MVP-2 @allure.story:SC4 @critical @operations @gateway @destructive @outage @requires.health @requires.control
Feature: A model service that goes down is reported as down
  As the operations lead running Citadel
  I need a stopped model service to show as unreachable in the health report while the gateway keeps answering
  So that a broken service is never hidden behind a report that says all is well

  Scenario: A stopped model service is reported unreachable while the gateway keeps answering
    Given a model service has stopped
    When an operator checks the health of the system
    Then the gateway itself still answers
    And the stopped service and every model it runs are reported unreachable
