@allure.epic:MVP-2 @allure.story:SC3 @critical @monitoring @requires.prometheus @metrics @requires.metrics
Feature: The gateway's metrics carry the planned names, labels and buckets, and tell the truth
  As the operations lead accepting MVP-2
  I need the gateway to count requests, failures and latency under the names the plan gives them
  So that dashboards, alerts and forecasts built on those names show what users actually experienced

  Scenario: Every planned metric is exposed with its labels and bucket bounds
    Given every model has answered a question
    When the gateway's metrics are read
    Then every planned metric family is exposed with its planned type, labels and bucket bounds

  Scenario: The gateway's request counters agree with what the clients saw
    When clients ask "hermes" 8 questions, 3 of them too long for the model to accept
    Then the gateway's success and error counters and its latency histogram for "hermes" grew by exactly what the clients saw
