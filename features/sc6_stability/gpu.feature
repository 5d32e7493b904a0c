@allure.epic:MVP-2 @allure.story:SC6 @critical @gpu @requires.gpu
Feature: The GPUs are in place, healthy, within their limits and doing the work
  As the operations lead accepting MVP-2
  I need the planned GPUs to be there, clear of their limits, free of hardware errors and actually used
  So that three days of serving do not end on an overheated, failing or idle card

  Scenario: The planned GPUs are in place with their memory
    When the GPUs of the deployment are inspected
    Then there are at least 2 GPUs
    And each GPU has at least 16 GB of memory

  Scenario: GPU memory stays within the serving limit
    When the GPUs of the deployment are inspected
    Then no GPU has more than 0.90 of its memory in use

  Scenario: Every GPU runs clear of its slowdown temperature
    When the GPUs of the deployment are inspected
    Then every GPU is at least 5 °C below its slowdown temperature

  Scenario: No GPU reports an uncorrectable memory error or a hardware slowdown
    When the GPUs of the deployment are inspected
    Then no GPU reports an uncorrectable memory error
    And no GPU is slowed down by its hardware

  @gpu_load @requires.chat
  Scenario: The GPUs do the work when the models serve requests
    When clients keep every model busy for a while
    Then the utilisation of every GPU rises by at least 10 points
