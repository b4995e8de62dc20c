# frozen_string_literal: true

class User < ApplicationRecord
  belongs_to :team, optional: true
  has_one :profile
  has_many :workouts
  has_many :completed_workouts
  has_many :diets
  has_many :comments
end
