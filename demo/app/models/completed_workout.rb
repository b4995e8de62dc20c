# frozen_string_literal: true

class CompletedWorkout < ApplicationRecord
  belongs_to :user
  belongs_to :workout
  has_many :completed_exercises, dependent: :delete_all
end
