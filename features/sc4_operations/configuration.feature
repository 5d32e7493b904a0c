@allure.epic:MVP-2 @allure.story:SC4 @critical @operations @gateway @admin @config @requires.config_api @requires.audit_chain @requires.database @mutates
Feature: Configuration changes are audited and can be rolled back
  As the operations lead running Citadel
  I need every configuration change to leave a trace of who changed what, and to be reversible
  So that a bad change is found and undone quickly

  Scenario: A configuration change is audited and rolled back
    When an operator changes "max_tokens_cap" to 2048 and then rolls the change back
    Then the audit trail records the change with its values before and after
    And the rollback restores the original value and is audited too
