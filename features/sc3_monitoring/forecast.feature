@allure.epic:MVP-2 @allure.story:SC3 @critical @monitoring @requires.prometheus @forecast
Feature: The monitoring forecasts when memory and disk would run out
  As the operations lead accepting MVP-2
  I need the monitoring to forecast memory and disk use, not only to show them
  So that we add capacity before the system runs out, not after

  Scenario: Memory and disk are not forecast to run out within the forecast horizon
    When memory and disk use are sampled from the monitoring over the forecast window
    Then Prometheus answers a forecast query for the horizon
    And neither memory nor disk is forecast to run out within the horizon
