@allure.epic:MVP-2 @allure.story:SC4 @critical @operations @destructive @recovery @requires.health @requires.control
Feature: A crashed model service is brought back automatically within the recovery target
  As the operations lead running Citadel
  I need the platform to restart a model service that crashed, without anyone being paged
  So that a crash costs minutes at most, as the plan's mean time to recover promises

  Scenario: A crashed model service is healthy again within 3 minutes
    Given the model service crashes
    When the operator watches the health report until the service is back
    Then the service is healthy again within 180 seconds, restarted by the platform
