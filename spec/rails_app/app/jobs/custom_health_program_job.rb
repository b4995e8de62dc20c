# frozen_string_literal: true

# Builds a user's program from their workouts (an N+1 over exercise groups).
class CustomHealthProgramJob < ApplicationJob
  queue_as { ENV.fetch("VTO_SIDEKIQ_QUEUE", "default") }

  def perform(user_id)
    user = User.find(user_id)
    user.workouts.map { |w| w.exercise_groups.map(&:name) } # marker:job
  end
end
