# frozen_string_literal: true

class Workout < ApplicationRecord
  belongs_to :user, optional: true
  has_many :exercise_groups, -> { order(:position) }, dependent: :destroy
  has_many :exercises, through: :exercise_groups
  has_many :completed_workouts
end
