# frozen_string_literal: true

require "net/http"

# Asks the model for a warm-up per exercise group of the user's workouts,
# through Net::HTTP: one call per group (a loop), and the same prompt for
# groups of the same name.
class WarmUpPlanJob < ApplicationJob
  queue_as :default

  def perform(user_id)
    user = User.find(user_id)
    uri = URI("#{ENV.fetch('OPENAI_BASE_URL')}/chat/completions")
    Net::HTTP.start(uri.host, uri.port, use_ssl: uri.scheme == "https", open_timeout: 5, read_timeout: 30) do |http|
      ExerciseGroup.joins(:workout).where(workouts: { user_id: user.id }).order(:id).map do |group|
        request = Net::HTTP::Post.new(uri.path, "Authorization" => "Bearer #{ENV.fetch('OPENAI_API_KEY')}",
                                                "Content-Type" => "application/json")
        request.body = JSON.generate(model: "gpt-4o-mini",
                                     messages: [{ role: "system", content: "You are a strength coach." },
                                                { role: "user", content: "A warm-up for #{group.name}" }])
        JSON.parse(http.request(request).body).dig("choices", 0, "message", "content") # marker:warm_up_call
      end
    end
  end
end
