# frozen_string_literal: true

class ExerciseGroup < ApplicationRecord
  belongs_to :workout
  has_many :exercises, dependent: :destroy
end
