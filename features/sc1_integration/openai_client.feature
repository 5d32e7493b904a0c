@allure.epic:MVP-2 @allure.story:SC1 @critical @gateway @openai @requires.model_list @requires.chat @requires.streaming
Feature: Applications built on the official OpenAI client work with Citadel unchanged
  As an application developer with code written for the OpenAI API
  I need the official OpenAI Python client, unmodified, to work against the Citadel gateway
  So that moving an application to Citadel means changing its base URL and key, nothing else

  Scenario: The official OpenAI client lists the models, chats and streams through the gateway
    Given the official OpenAI Python client is pointed at the gateway
    When the client lists the models, asks "openchat" a question and streams an answer
    Then the client sees every model of the deployment
    And the client receives a complete answer and a complete streamed answer, each with usage
