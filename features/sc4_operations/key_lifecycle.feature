@allure.epic:MVP-2 @allure.story:SC4 @critical @operations @gateway @admin @keys @requires.key_admin
Feature: Operators manage API keys through their whole life
  As the operations lead running Citadel
  I need to issue, list, rotate and revoke API keys
  So that a leaked key can be replaced or cut off at once

  Scenario: A rotated key works, while the replaced and the revoked values are refused
    Given a user with their own API key
    When an operator lists, rotates and revokes that key
    Then the rotated key works, the replaced and the revoked values are refused
