@allure.epic:MVP-2 @allure.story:SC1 @critical @gateway @database @vector @journey @requires.chat @requires.key_admin @requires.documents @requires.retrieval
Feature: A user's question is answered from their own document, and every part of the system records it
  As the product owner accepting MVP-2
  I need a document a user stores to be used when they ask about it, and every part of the system to keep its record
  So that retrieval works end to end and any request can be traced through gateway, database, vector store and metrics

  Background:
    Given a user with their own API key
    And the user has stored this document titled "Refund policy"
      """
      Refund policy of Citadel Retail: customers may ask for a refund within 30 days of purchase,
      with the receipt. Refunds are paid back to the original payment card within 5 working days.
      """

  Scenario: The answer cites the user's document
    When the user asks "hermes": "How many days do customers have to ask for a refund?"
    Then the answer cites the document titled "Refund policy"

  @requires.request_log @requires.database
  Scenario: The request log holds a row for each request the user made
    When the user asks "hermes": "How many days do customers have to ask for a refund?"
    Then the request log holds one row for each request the user made

  @requires.vector_store
  Scenario: The vector store holds the document with its owner and metadata
    When the user asks "hermes": "How many days do customers have to ask for a refund?"
    Then the vector store holds the document with its owner and metadata

  @requires.metrics
  Scenario: The gateway counts exactly the requests it was sent
    When the user asks "hermes": "How many days do customers have to ask for a refund?"
    Then the gateway counted exactly the one chat request the user made
