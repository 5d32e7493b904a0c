@allure.epic:MVP-2 @allure.story:SC5 @blocker @security @gateway @auth_everywhere @requires.openapi
Feature: Every protected endpoint refuses a request without a valid key
  As the security officer accepting MVP-2
  I need every endpoint the gateway publishes, not only the ones someone remembered, to demand a valid key
  So that no forgotten route lets a stranger in (OWASP API2:2023 broken authentication)

  Scenario Outline: Every protected endpoint refuses <credential>
    When a client calls every protected endpoint with <credential>
    Then every one of them refuses it with 401 and a challenge, without repeating it

    Examples: Credentials that must not open any endpoint
      | credential                         |
      | no API key                         |
      | a malformed authorization header   |
      | an API key the system never issued |
      | a revoked API key                  |
