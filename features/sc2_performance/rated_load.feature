@allure.epic:MVP-2 @allure.story:SC2 @critical @gateway @load @rated @requires.chat
Feature: Every model answers within its latency target and sustains its rated throughput
  As the operations lead accepting MVP-2
  I need each served model to answer as fast as the plan promises while it carries its rated load
  So that users are not kept waiting when the system is busy

  Scenario Outline: <model> answers within its latency target at its rated load
    Given the "<model>" model is being served
    When clients send <rate> requests per second to "<model>" for the measurement window
    Then 95 % of responses complete within <p95_ms> ms
    And fewer than 0.1 % of requests fail
    And the model sustains its rated throughput

    Examples: MVP-2 plan, task T2-002 (response time) and section 0.4 (throughput, errors)
      | model    | rate | p95_ms |
      | mixtral  | 10   | 1500   |
      | hermes   | 20   | 1000   |
      | openchat | 25   | 800    |
      | phi3     | 50   | 300    |
