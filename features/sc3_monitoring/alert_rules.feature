@allure.epic:MVP-2 @allure.story:SC3 @critical @monitoring @requires.prometheus @rules
Feature: Prometheus evaluates the planned alerts and the predictive rules
  As the operations lead accepting MVP-2
  I need the planned alerts (ServiceDown, HighCPUUsage, HighMemoryUsage, ModelInferenceErrors) and the
  forecasting and anomaly rules to be loaded and evaluated
  So that trouble is announced, and announced ahead, without anyone watching a dashboard

  Scenario: Every planned alert and predictive rule is loaded
    When the rules Prometheus evaluates are listed
    Then every expected alert and recording rule is loaded and evaluates without error
