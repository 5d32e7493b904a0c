@allure.epic:MVP-2 @allure.story:SC2 @critical @database @db_perf @requires.database
Feature: The database answers the gateway's critical queries fast, through indexes, for 200 connections at once
  As the database administrator accepting MVP-2
  I need the optimised database of task T2-005 to answer fast under load and to serve its rated number of connections
  So that the database never becomes what users wait for

  Scenario: Every critical query of the gateway can use an index
    When the plan of each critical query is examined
    Then no critical query scans a big table sequentially

  Scenario: Critical queries stay under the optimised-query target under concurrent load
    When the critical queries run from 10 connections at once, 20 times each
    Then 95 % of the critical queries complete within 50 ms

  Scenario: 200 connections at once are all served, and released afterwards
    When 200 connections are opened at once
    Then every connection is served
    And the number of open connections returns to its baseline

  Scenario: No statement of the application is slow on average
    When the server's statement statistics are read
    Then no statement of the application averages more than 50 ms
