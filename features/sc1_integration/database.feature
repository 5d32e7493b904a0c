@allure.epic:MVP-2 @allure.story:SC1 @critical @database @db_schema @requires.database
Feature: The database holds what the gateway needs, and old data is removed on schedule
  As the database administrator accepting MVP-2
  I need the schema the gateway relies on to be complete, and data older than its retention to be removed
  So that nothing the gateway needs is missing and the database does not grow without end

  Scenario: Every table, index and constraint the gateway needs exists
    When the database schema is inspected
    Then every expected table, index and constraint exists

  @requires.lifecycle @requires.request_log @mutates
  Scenario: The data-lifecycle job removes rows older than the retention period
    Given request-log rows older than the retention period
    When the data-lifecycle job runs
    Then no request-log row is older than the retention period
