# frozen_string_literal: true

module Api
  module V1
    # Done right: the associations are preloaded.
    class WorkoutsController < BaseController
      def index
        workouts = current_user.workouts.includes(exercise_groups: :exercises).order(:id)
        render json: workouts.map { |w| serialize(w) }
      end

      def show
        render json: serialize(Workout.includes(exercise_groups: :exercises).find(params[:id]))
      end

      private

      def serialize(workout)
        { id: workout.id, title: workout.title,
          groups: workout.exercise_groups.map { |g| { name: g.name, exercises: g.exercises.map(&:name) } } }
      end
    end
  end
end
