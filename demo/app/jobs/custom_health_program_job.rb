# frozen_string_literal: true

# Generates a health program with an AI model: one long call to the model,
# then the program's workout written exercise by exercise.
class CustomHealthProgramJob < ApplicationJob
  queue_as :default

  def perform(user_id)
    user = User.find(user_id)
    answer = OpenaiChat.complete(model: "gpt-4o",
                                 messages: [{ role: "system", content: "You are a personal trainer." },
                                            { role: "user", content: "A 12-week program for #{user.name}." }],
                                 timeout: 120)
    AiGenerationLog.create!(user: user, kind: "health_program", prompt_tokens: answer.usage["prompt_tokens"],
                            completion_tokens: answer.usage["completion_tokens"])
    workout = user.workouts.create!(title: "AI program for #{user.name}", duration_minutes: 45)
    3.times do |g|
      group = workout.exercise_groups.create!(name: "Block #{g + 1}", position: g)
      4.times { |e| group.exercises.create!(name: "Exercise #{g + 1}.#{e + 1}", reps: 8 + e) }
    end
  end
end
