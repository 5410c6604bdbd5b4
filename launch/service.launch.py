"""ROS 2 launch file: a service demo on rmw_shm_rs, an rclpy "add two ints" server and client.

    server  answers add_two_ints requests with a + b
    client  calls it `count` times at `rate` calls per second, prints
            "Result of add_two_ints: a + b = sum" for each and a summary line
            "client: TOTAL calls=.. ok=.. rate=.. rtt_ms_mean=.." (then it exits; stop the server
            with Ctrl-C)

    ros2 launch rmw_shm_rs service.launch.py                    (installed package)
    ros2 launch launch/service.launch.py count:=100 rate:=0     (from a source checkout)

The type is example_interfaces/srv/AddTwoInts when installed (it is on a full ROS install), else
test_msgs/srv/BasicTypes used as an adder. Arguments: rmw_implementation (default rmw_shm_rs),
service (default add_two_ints), count (default 20), rate (calls per second, 0 = back to back).
The nodes are test/nodes/demo_service.py (installed to share/rmw_shm_rs/nodes).
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
        if os.path.isfile(os.path.join(candidate, 'demo_service.py')):
            return os.path.normpath(candidate)
    raise RuntimeError('demo_service.py not found in any of: ' + ', '.join(candidates))


def generate_launch_description():
    script = os.path.join(_nodes_dir(), 'demo_service.py')
    service = LaunchConfiguration('service')
    return LaunchDescription([
        DeclareLaunchArgument(
            'rmw_implementation', default_value='rmw_shm_rs',
            description='RMW implementation for both nodes'),
        DeclareLaunchArgument('service', default_value='add_two_ints', description='service name'),
        DeclareLaunchArgument('count', default_value='20', description='calls the client makes'),
        DeclareLaunchArgument('rate', default_value='5.0',
                              description='client calls per second (0: back to back)'),
        SetEnvironmentVariable('RMW_IMPLEMENTATION', LaunchConfiguration('rmw_implementation')),
        ExecuteProcess(
            name='server', output='screen',
            cmd=[sys.executable, '-u', script, 'server', '--service', service]),
        ExecuteProcess(
            name='client', output='screen',
            cmd=[sys.executable, '-u', script, 'client', '--service', service,
                 '--count', LaunchConfiguration('count'), '--rate', LaunchConfiguration('rate')]),
    ])
