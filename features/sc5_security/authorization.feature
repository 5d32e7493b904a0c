@allure.epic:MVP-2 @allure.story:SC5 @blocker @security @gateway @vector @authz @requires.key_admin
Feature: Each key may do only what its role allows, and each user sees only their own documents
  As the security officer accepting MVP-2
  I need roles to limit what a key can do, and documents to stay with their owner
  So that a user cannot administer the system or read a colleague's documents (OWASP API1 and API5:2023)

  Scenario: A user key cannot use any operator endpoint
    Given a user with their own API key
    When a user key calls every operator endpoint
    Then every one of them answers 403

  @requires.documents
  Scenario: A read-only key cannot store documents
    When a read-only key tries to store a document
    Then the request is forbidden

  @requires.documents @requires.retrieval
  Scenario: One user cannot read, list, delete or retrieve another user's document
    Given a user with their own API key
    And another user has stored a private document
    When the user tries to read, list, delete and retrieve that document
    Then the document is as invisible to them as one that does not exist
