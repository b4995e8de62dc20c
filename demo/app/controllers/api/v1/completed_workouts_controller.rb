# frozen_string_literal: true

module Api
  module V1
    class CompletedWorkoutsController < BaseController
      # The user's last 30 completed workouts with their workout and
      # exercises — loaded one by one: the classic N+1.
      def index
        completed = current_user.completed_workouts.order(created_at: :desc).limit(30)
        render json: completed.map { |done|
          { id: done.id, workout: done.workout.title, calories: done.calories,
            exercises: done.completed_exercises.map { |ce| { name: ce.exercise.name, reps: ce.reps } } }
        }
      end
    end
  end
end
