@allure.epic:MVP-2 @allure.story:SC4 @normal @operations @gateway @logs @requires.chat @requires.gateway_log
Feature: Every request can be found in the logs by its request id
  As the operations lead running Citadel
  I need structured log lines that carry the request id each answer gives back
  So that a user's complaint can be traced to the exact request

  Scenario: The request id of an answer leads to its structured log line
    When a client makes a request and notes the request id the gateway gives back
    Then the gateway's log has a structured JSON line for that request id
