@allure.epic:MVP-2 @allure.story:SC5 @critical @security @database @db_role @requires.database
Feature: The application cannot change the database's structure
  As the security officer accepting MVP-2
  I need the gateway's database account to read and write data but never create, alter or drop tables
  So that a compromised gateway cannot destroy or reshape the data it serves

  Scenario: The application's database role cannot create a table
    When the application's database role tries to create a table
    Then the database refuses it
