export { InvocationLabel } from '../abi/constants.js';
