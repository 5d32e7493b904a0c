@allure.epic:MVP-2 @allure.story:SC5 @critical @security @gateway @transport @requires.tls
Feature: Traffic to the gateway is encrypted with current TLS and answers carry the security headers
  As the security officer accepting MVP-2
  I need the gateway to speak only current TLS with a trusted certificate, and to send the browser protections
  So that nothing travels in clear or can be downgraded (T2-007 encryption in transit)

  Scenario: Only TLS 1.2 or newer is accepted, and answers carry the security headers
    When a client connects over HTTPS with each TLS version
    Then only TLS 1.2 or newer is accepted, with a certificate the client trusts
    And answers carry the security headers, and a foreign origin is not let in
