# frozen_string_literal: true

module Api
  class WorkoutsController < BaseController
    # belongs_to in a loop.
    def index
      render json: Workout.order(:id).map { |w| w.user.name } # marker:belongs-to
    end

    # has_many :through in a loop.
    def exercises
      render json: Workout.order(:id).map { |w| w.exercises.to_a.size } # marker:through
    end

    # find in a loop, through a helper called from two places: two call sites.
    def lookup
      ids = Workout.order(:id).pluck(:id)
      half = ids.size / 2 # distinct ids per loop: the request's query cache would answer repeats
      first = ids.first(half).map { |id| WorkoutLookup.title(id) } # marker:lookup-a
      second = ids.drop(half).map { |id| WorkoutLookup.title(id) } # marker:lookup-b
      render json: first + second
    end
  end
end
