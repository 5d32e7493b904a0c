@allure.epic:MVP-2 @allure.story:SC5 @critical @security @database @vector @components @requires.database @requires.vector_store @requires.audit_chain @requires.key_admin @mutates
Feature: The database, the vector store and the audit trail protect themselves
  As the security officer accepting MVP-2
  I need every component to hold its own line: least privilege, its own key, a tamper-evident record
  So that one weak part does not open the others (T2-007 tamper-evident audit logging)

  Scenario: The components hold their own line
    Given an operator has just issued an API key
    When the database role, the vector store and the audit trail are examined
    Then the application's database role is not a superuser
    And the vector store refuses a request without its API key
    And the audit trail's hash chain holds, and a modified row breaks it
