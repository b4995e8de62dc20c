# frozen_string_literal: true

module Api
  class UsersController < BaseController
    # has_many in a loop; ?fixed=1 preloads it.
    def index
      users = params[:fixed] ? User.includes(:workouts).order(:id) : User.order(:id)
      render json: users.map { |u| { id: u.id, workouts: u.workouts.map(&:title) } } # marker:has-many
    end

    # Queries issued by the preloader itself are never an N+1.
    def preloaded
      users = User.includes(:workouts, :profile, team: :users).order(:id).to_a
      render json: users.map { |u| [u.workouts.size, u.profile&.goal, u.team&.users&.size] }
    end

    # has_one in a loop.
    def profiles
      render json: User.order(:id).map { |u| u.profile&.goal } # marker:has-one
    end

    # COUNT in a loop.
    def counts
      render json: User.order(:id).map { |u| u.completed_workouts.count } # marker:count
    end

    # exists? in a loop.
    def exists
      render json: User.order(:id).map { |u| u.diets.exists? } # marker:exists
    end

    # find_each / in_batches: deliberate batches, not N+1.
    def batches
      names = []
      User.find_each(batch_size: 2) { |u| names << u.name }
      User.in_batches(of: 2) { |batch| names << batch.size }
      render json: names
    end

    # An N+1 inside find_each's block (per record) and inside the records of
    # an in_batches batch: both are flagged.
    def batches_per_record
      titles = []
      User.find_each(batch_size: 2) { |u| titles << u.workouts.map(&:title) } # marker:find-each
      User.in_batches(of: 2) { |batch| batch.each { |u| titles << u.diets.map(&:name) } } # marker:in-batches
      render json: titles
    end

    # The same query shape from two call sites, once each: not an N+1.
    def two_sites
      first, second = User.order(:id).limit(2).to_a
      a = Workout.where(user_id: first.id).to_a
      b = Workout.where(user_id: second.id).to_a
      render json: [a.size, b.size]
    end
  end
end
