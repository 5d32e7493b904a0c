@allure.epic:MVP-2 @allure.story:SC4 @critical @operations @vector @destructive @vector_outage @requires.control @requires.chat @requires.key_admin @requires.retrieval
Feature: Chat keeps working while the vector store is down, and retrieval says why it cannot
  As the operations lead running Citadel
  I need an outage of the vector store to stop only retrieval, and to be reported plainly to the user
  So that one broken part does not take the whole service down with it

  Scenario: With the vector store down, chat is served and retrieval is refused as unavailable
    Given a user with their own API key
    And the vector store has stopped
    When the user asks "hermes" a question without retrieval, then with retrieval
    Then the question without retrieval is answered
    And the question with retrieval is refused as temporarily unavailable, with a clear message
