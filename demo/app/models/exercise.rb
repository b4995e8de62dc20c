# frozen_string_literal: true

class Exercise < ApplicationRecord
  belongs_to :exercise_group
end
