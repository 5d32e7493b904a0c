@allure.epic:MVP-2 @allure.story:SC4 @critical @operations @database @backup @requires.database @requires.backup @mutates
Feature: The database can be backed up and restored without losing anything
  As the database administrator running Citadel
  I need a backup made with the platform's tool to restore completely
  So that a lost or damaged database can be brought back as it was

  Scenario: A backup restores every table with the same rows and content
    When the operator backs the database up and restores the backup into a scratch database
    Then the restored database holds every table with the same rows and content
