@allure.epic:MVP-2 @allure.story:SC1 @critical @gateway @models @requires.model_list
Feature: The served models are listed where clients look for them
  As an application developer integrating with Citadel
  I need the gateway to list every served model where the plan puts the list and where OpenAI clients look
  So that every client discovers the same models, whichever convention it follows

  Scenario: The model list is where OpenAI clients look for it
    When a client asks for the model list where OpenAI clients look for it
    Then every model of the deployment is listed

  Scenario: The model list is where the MVP-2 plan puts it
    When a client asks for the model list where the MVP-2 plan puts it
    Then every model of the deployment is listed
