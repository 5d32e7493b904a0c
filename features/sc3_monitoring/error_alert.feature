@allure.epic:MVP-2 @allure.story:SC3 @critical @monitoring @requires.prometheus @alerting @errors @requires.chat
Feature: Failing inference requests raise the planned alert
  As the operations lead accepting MVP-2
  I need a model that starts failing requests to raise the ModelInferenceErrors alert of the plan
  So that the on-call engineer hears about failures before the users complain

  Scenario: A burst of failing inference requests raises the inference-error alert
    Given Prometheus evaluates the inference-error alert rule
    When 6 requests to "phi3" fail in quick succession
    Then the inference-error alert is raised for "phi3" within its window
