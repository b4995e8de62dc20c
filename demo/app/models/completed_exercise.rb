# frozen_string_literal: true

class CompletedExercise < ApplicationRecord
  belongs_to :completed_workout
  belongs_to :exercise
end
