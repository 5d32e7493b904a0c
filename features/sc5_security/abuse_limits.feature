@allure.epic:MVP-2 @allure.story:SC5 @critical @security @gateway @abuse @requires.chat
Feature: Abusive requests are refused politely and reveal nothing
  As the security officer accepting MVP-2
  I need floods, oversized and malformed requests to be refused as the client's mistake
  So that nobody can exhaust the service or learn its internals (OWASP API4:2023, API8:2023)

  @ratelimit @requires.key_admin @requires.rate_limit
  Scenario: The 101st request in a minute is refused with 429, and service resumes after waiting
    Given a user with their own API key
    When the user sends 101 requests within a minute and then waits as told
    Then the last one is refused with 429 and a Retry-After, and service resumes after it

  Scenario: Oversized, malformed and out-of-range requests get a client error that reveals nothing
    When a client sends oversized, malformed and out-of-range requests
    Then each is refused as the client's mistake, never as a server error
    And no error answer reveals a stack trace, SQL, a file path or a version
