@allure.epic:MVP-2 @allure.story:SC4 @critical @operations @gateway @health @requires.health
Feature: Health reports tell operators the state of every model service
  As the operations lead running Citadel
  I need the gateway's health reports to name every model service and tell the truth about it
  So that an outage is seen at once and traced to the service that caused it

  Scenario: The health report names every model with the service that runs it
    When an operator checks the health of the system
    Then the report names every model of the deployment with the service that runs it

  Scenario: The per-model health report names every model with the service that runs it
    When an operator checks the health of the models
    Then the report names every model of the deployment with the service that runs it

  Scenario: A system in good order is reported healthy
    When an operator checks the health of the system
    Then every model service is reported healthy

  Scenario: The health report agrees with a direct check of each model service
    When an operator checks the health of the system
    Then the report agrees with a direct check of each model service
