@allure.epic:MVP-2 @allure.story:SC5 @blocker @security @gateway @auth @requires.chat
Feature: Only holders of a valid API key are served
  As the security officer accepting MVP-2
  I need every request without a valid API key to be refused before it reaches a model
  So that the models and the data behind them are used only by those entitled to

  Scenario Outline: A request with <credential> is refused
    When a client sends a chat request with <credential>
    Then the request is refused as unauthenticated

    Examples: Credentials that must not open the gateway
      | credential                         |
      | no API key                         |
      | an API key the system never issued |
      | a malformed authorization header   |

  Scenario Outline: A refused request with <credential> does not repeat it back
    When a client sends a chat request with <credential>
    Then the refusal does not repeat the credential

    Examples: Credentials that could leak if repeated
      | credential                         |
      | an API key the system never issued |
      | a malformed authorization header   |
