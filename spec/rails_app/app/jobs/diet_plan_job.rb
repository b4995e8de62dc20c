# frozen_string_literal: true

require "faraday"

# Asks the model for a diet plan through Faraday (its default adapter is
# Net::HTTP), with retries and the circuit breaker around the call. `mode`
# passes the fake server's failure switch (429, 500) through.
class DietPlanJob < ApplicationJob
  queue_as :default

  class ServerError < StandardError; end

  def self.breaker
    VirtualTrainerOptimizer::CircuitBreaker.for("openai-diet", failure_threshold: 3, window: 60, cool_down: 30,
                                                               on: [ServerError, Faraday::Error])
  end

  def perform(user_id, mode = nil)
    diet = User.find(user_id).diets.first
    connection = Faraday.new(url: ENV.fetch("OPENAI_BASE_URL").delete_suffix("/v1"), request: { timeout: 20 })
    body = JSON.generate(model: "gpt-4o", messages: [{ role: "user", content: "A week of meals for #{diet&.name}" }])
    headers = { "Authorization" => "Bearer #{ENV.fetch('OPENAI_API_KEY')}", "Content-Type" => "application/json" }
    path = "/v1/chat/completions#{"?mode=#{mode}" if mode}"
    VirtualTrainerOptimizer::Retry.call(attempts: 3, base: 0.01, on: [ServerError]) do
      self.class.breaker.call do
        response = connection.post(path, body, headers) # marker:diet_call
        raise ServerError, "OpenAI answered #{response.status}" if response.status >= 500 || response.status == 429

        JSON.parse(response.body).dig("choices", 0, "message", "content")
      end
    end
  end
end
