@allure.epic:MVP-2 @allure.story:SC3 @critical @monitoring @requires.prometheus @scrape
Feature: Prometheus collects the metrics of every part, at the planned interval
  As the operations lead accepting MVP-2
  I need every part that exposes metrics to be collected, and often enough
  So that dashboards and alerts see trouble within seconds, not minutes

  Scenario: Every part that exposes metrics is being collected
    When Prometheus has had the time to collect from every expected part once
    Then every expected part is reported up

  Scenario: Metrics are collected at least every 10 seconds
    When the monitoring configuration in force is read
    Then every expected part is collected at least every 10 seconds
