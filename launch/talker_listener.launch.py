"""ROS 2 launch file: an rclpy talker and an rclpy listener, two processes, on rmw_shm_rs.

    ros2 launch rmw_shm_rs talker_listener.launch.py            (installed package)
    ros2 launch launch/talker_listener.launch.py                (from a source checkout)

Arguments: rmw_implementation (default rmw_shm_rs), topic (default chatter), period (seconds between
messages, default 0.25). The nodes are the scripts in test/nodes/ (installed to share/rmw_shm_rs/nodes).
With the PyPI wheels there is no `launch` package: use scripts/demo.sh, which starts the same two nodes.
"""

import os
import sys

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration


def _nodes_dir():
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [
        os.path.join(here, '..', 'test', 'nodes'),  # source checkout: launch/ next to test/
        os.path.join(here, '..', 'nodes'),  # installed: share/rmw_shm_rs/{launch,nodes}
    ]
    for candidate in candidates:
        if os.path.isfile(os.path.join(candidate, 'talker.py')):
            return os.path.normpath(candidate)
    raise RuntimeError('talker.py not found in any of: ' + ', '.join(candidates))


def generate_launch_description():
    nodes = _nodes_dir()
    topic = LaunchConfiguration('topic')
    return LaunchDescription([
        DeclareLaunchArgument(
            'rmw_implementation', default_value='rmw_shm_rs',
            description='RMW implementation for both nodes'),
        DeclareLaunchArgument('topic', default_value='chatter', description='topic name'),
        DeclareLaunchArgument(
            'period', default_value='0.25', description='seconds between two messages'),
        SetEnvironmentVariable('RMW_IMPLEMENTATION', LaunchConfiguration('rmw_implementation')),
        ExecuteProcess(
            name='listener',
            cmd=[sys.executable, '-u', os.path.join(nodes, 'listener.py'), '--topic', topic],
            output='screen'),
        ExecuteProcess(
            name='talker',
            cmd=[sys.executable, '-u', os.path.join(nodes, 'talker.py'), '--topic', topic,
                 '--period', LaunchConfiguration('period'), '--wait-match', '30'],
            output='screen'),
    ])
