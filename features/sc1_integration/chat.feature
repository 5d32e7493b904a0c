@allure.epic:MVP-2 @allure.story:SC1 @critical @gateway @chat @requires.chat
Feature: Every served model answers a chat request in the OpenAI format
  As an application developer integrating with Citadel
  I need each served model to answer a chat request in the format OpenAI clients expect, with token usage
  So that existing applications work unchanged and usage can be accounted for

  Scenario Outline: <model> answers a chat request completely and in time
    Given the "<model>" model is being served
    When a user asks "<model>" a question
    Then the answer is a complete chat completion from "<model>"
    And the answer reports how many tokens it used
    And the answer arrives within <response_ms> ms

    Examples: MVP-2 plan, task T2-002 (response time per model)
      | model    | response_ms |
      | mixtral  | 1500        |
      | hermes   | 1000        |
      | openchat | 800         |
      | phi3     | 300         |

  Scenario: A request for a model that is not served is refused with a clear error
    When a user asks a model that is not served a question
    Then the request is refused as invalid, naming the model

  Scenario: A request without any message is refused with a clear error
    When a user sends a chat request without any message
    Then the request is refused as invalid, naming the messages
