@allure.epic:MVP-2 @allure.story:SC5 @critical @security @gateway @vector @llm @requires.chat @requires.key_admin @requires.documents @requires.retrieval
Feature: Injected instructions do not take over the model
  As the security officer accepting MVP-2
  I need instructions hidden in a user's message or in a stored document to be caught before they steer the model
  So that retrieved content cannot make the system say or leak what it should not (OWASP LLM01:2025)

  Scenario: Prompt injections, direct and through a document, are not obeyed
    Given a user with their own API key
    When a user tries 3 prompt injections carrying a canary, directly and through a stored document
    Then the share of answers that obey the injection stays within the target
    And the gateway's guard reports catching every one of them
