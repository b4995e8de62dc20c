# frozen_string_literal: true

class Workout < ApplicationRecord
  belongs_to :user
  has_many :exercise_groups
  has_many :exercises, through: :exercise_groups
  has_many :comments, as: :commentable
end
