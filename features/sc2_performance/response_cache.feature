@allure.epic:MVP-2 @allure.story:SC2 @normal @gateway @cache @requires.chat @requires.response_cache
Feature: A repeated question is answered from the cache
  As the operations lead accepting MVP-2
  I need identical deterministic requests to be answered from the response cache of task T2-002
  So that repeated questions cost no model time and come back faster

  Scenario: A repeated deterministic question is answered from the cache
    When a user asks "hermes" the same deterministic question twice
    Then the repeated question is answered from the cache, faster than the first time
