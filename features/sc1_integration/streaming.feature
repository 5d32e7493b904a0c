@allure.epic:MVP-2 @allure.story:SC1 @critical @gateway @stream @requires.streaming
Feature: A streamed answer arrives piece by piece and ends properly
  As a user of a chat application built on Citadel
  I need long answers to appear as they are written, and the application to know when an answer is complete
  So that I am not left waiting for a whole answer, nor shown one that was cut off

  Scenario: A streamed answer arrives in pieces, ends properly and reports its usage
    Given the "hermes" model is being served
    When a user asks "hermes" a question and reads the answer as it is written
    Then the answer arrives in several pieces
    And the stream tells the application that the answer is complete
    And the stream reports how many tokens the answer used
