# frozen_string_literal: true

# Generates a health program with an AI model: one long call to the model
# (its latency stands in for the API's, VTO_DEMO_AI_SECONDS), then the
# program's workout written exercise by exercise.
class CustomHealthProgramJob < ApplicationJob
  queue_as :default

  def perform(user_id)
    user = User.find(user_id)
    sleep Float(ENV.fetch("VTO_DEMO_AI_SECONDS", "5.5"))
    AiGenerationLog.create!(user: user, kind: "health_program", prompt_tokens: 850, completion_tokens: 1400)
    workout = user.workouts.create!(title: "AI program for #{user.name}", duration_minutes: 45)
    3.times do |g|
      group = workout.exercise_groups.create!(name: "Block #{g + 1}", position: g)
      4.times { |e| group.exercises.create!(name: "Exercise #{g + 1}.#{e + 1}", reps: 8 + e) }
    end
  end
end
