@allure.epic:MVP-2 @allure.story:SC2 @normal @gateway @load @streaming @requires.streaming
Feature: Time to first token and time per token are known for every model
  As the operations lead accepting MVP-2
  I need to know how soon each model starts answering and how fast it writes, measured as the glossary defines
  So that slow starts and slow writing are told apart, and tracked from release to release

  Scenario Outline: <model>'s streamed answers report their time to first token and time per token
    Given the "<model>" model is being served
    When clients stream answers from "<model>" at the normal load for the measurement window
    Then time to first token and time per output token are measured for every answer

    Examples: Served models
      | model    |
      | mixtral  |
      | hermes   |
      | openchat |
      | phi3     |
