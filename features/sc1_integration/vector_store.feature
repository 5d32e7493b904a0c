@allure.epic:MVP-2 @allure.story:SC1 @critical @vector @vector_functional
Feature: The vector store keeps each user's documents findable, by meaning and by their metadata
  As the product owner accepting MVP-2
  I need the enhanced vector store of task T2-006 to be set up as planned and to search within the filters asked for
  So that users find their documents, and only the ones they asked for

  @requires.vector_store
  Scenario: The documents collection is set up with the expected vector size and distance
    When the vector store's documents collection is inspected
    Then it exists with the expected vector size and distance, and its status is green
    And the fields that searches filter on are indexed

  @requires.embeddings
  Scenario: Every embedding has the size the collection is set up for
    When 5 texts are embedded one after another
    Then every embedding has the collection's vector size

  @requires.key_admin @requires.documents @requires.retrieval
  Scenario: A search within one department finds only that department's documents
    Given a user with their own API key
    And the user has stored documents of several departments
    When the user searches their documents of the "finance" department
    Then every document found belongs to that department

  @requires.vector_store @mutates
  Scenario: A snapshot of the documents collection restores with every point
    When a snapshot of the documents collection is taken
    Then the snapshot restores into a collection with the same points
