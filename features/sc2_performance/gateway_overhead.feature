@allure.epic:MVP-2 @allure.story:SC2 @critical @gateway @load @overhead @requires.chat
Feature: The gateway adds almost nothing to the time a model takes
  As the architect accepting MVP-2
  I need authentication, routing and logging in the gateway to cost less than the plan allows
  So that the single entry point never becomes the bottleneck

  Scenario: The gateway adds less than 30 ms at 100 requests per second
    When the same requests go to "phi3" directly and through the gateway at 100 requests per second
    Then the gateway adds less than 30 ms at the median and at the 95th percentile
