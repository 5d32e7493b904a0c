@allure.epic:MVP-2 @allure.story:SC5 @critical @security @gateway @fuzz @requires.openapi @requires.key_admin
Feature: Requests generated from the published API description break nothing and get past no lock
  As the security officer accepting MVP-2
  I need requests nobody thought of, generated from the gateway's own OpenAPI document, to be refused cleanly
  So that no unexpected input turns into a server error and no operation forgets to ask for a key
  (OWASP API8:2023 security misconfiguration, API9:2023 improper inventory; Schemathesis)

  Scenario: Generated requests to every published operation cause no server error and skip no authentication
    Given a user with their own API key
    When Schemathesis sends requests generated from the gateway's OpenAPI document with that key
    Then every protected operation of the document declares that it needs a key
    And no generated request caused a server error
    And no protected operation answered a request without a valid key
